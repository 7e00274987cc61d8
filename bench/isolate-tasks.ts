// Tasks for bench/isolate-overhead.ts: the same trivial handler in-loop, in a thread, in a process.
import { defineTask } from '../src/index.ts';

const echo = (value: unknown) => value;

/** The echo task per isolation. */
export const inLoop = defineTask('echo.loop', echo);
export const inThread = defineTask('echo.thread', echo, { isolate: 'thread' });
export const inProcess = defineTask('echo.process', echo, { isolate: 'process' });
