import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { ResolvedRedisStoreOptions } from './options.ts';

type Arg = string | number;

/** The Lua scripts (`lua/*.lua`, KEYS first), each called by exactly one store method. */
export interface ScriptCommands {
  yadtqCreate(...numberOfKeysKeysAndArgs: Arg[]): Promise<string[][]>;
  yadtqDiscard(...keysAndArgs: Arg[]): Promise<number>;
  yadtqClaimMany(...numberOfKeysKeysAndArgs: Arg[]): Promise<(string | null)[][]>;
  yadtqFinishMany(...numberOfKeysKeysAndArgs: Arg[]): Promise<number[]>;
  yadtqCancel(...keysAndArgs: Arg[]): Promise<string[]>;
  yadtqResubmit(...keysAndArgs: Arg[]): Promise<string[]>;
  yadtqRegisterWorker(...keysAndArgs: Arg[]): Promise<[number, number]>;
  yadtqHeartbeat(...keysAndArgs: Arg[]): Promise<number>;
  yadtqLead(...keysAndArgs: Arg[]): Promise<number>;
  yadtqResign(...keysAndArgs: Arg[]): Promise<number>;
  yadtqRequeue(...keysAndArgs: Arg[]): Promise<string[]>;
  yadtqDue(...keysAndArgs: Arg[]): Promise<string[][]>;
  yadtqPromote(...keysAndArgs: Arg[]): Promise<string[]>;
  yadtqTakeRecovered(...keysAndArgs: Arg[]): Promise<string[][]>;
}

const lua = (file: string): string =>
  readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');

/** What every script that changes a task shares (terminal handling, replies), prepended. */
const TASK_LIB = lua('lib/task.lua');

const script = (numberOfKeys: number, file: string) => ({ numberOfKeys, lua: lua(file) });
const taskScript = (file: string, numberOfKeys = 1) => ({
  numberOfKeys,
  lua: `${TASK_LIB}\n${lua(file)}`,
});

/**
 * The batch form of a one-task script: its body run once per task, in order, inside one
 * script call (so each task's step is as atomic as alone, and a later one sees the earlier
 * ones). KEYS: one task key per task; ARGV: per task, its argument count, then its
 * arguments. Replies: the one-task replies, in order.
 */
const manyTaskScript = (file: string) => ({
  lua: `${TASK_LIB}
local function one(KEYS, ARGV)
${lua(file)}
end
local replies, at = {}, 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[at])
  replies[i] = one({KEYS[i]}, {unpack(ARGV, at + 1, at + n)})
  at = at + n + 1
end
return replies`,
});

const SCRIPTS: Record<keyof ScriptCommands, { numberOfKeys?: number; lua: string }> = {
  // A batch of tasks: the caller passes the number of keys first.
  yadtqCreate: { lua: lua('create.lua') },
  yadtqDiscard: script(1, 'discard.lua'),
  // Batches of tasks: the caller passes the number of keys first.
  yadtqClaimMany: manyTaskScript('claim.lua'),
  yadtqFinishMany: manyTaskScript('finish.lua'),
  yadtqCancel: taskScript('cancel.lua'),
  yadtqResubmit: taskScript('resubmit.lua'),
  yadtqRegisterWorker: script(2, 'register-worker.lua'),
  yadtqHeartbeat: script(2, 'heartbeat.lua'),
  yadtqLead: script(1, 'lead.lua'),
  yadtqResign: script(1, 'resign.lua'),
  yadtqRequeue: taskScript('requeue.lua', 2),
  yadtqDue: script(1, 'due.lua'),
  yadtqPromote: taskScript('promote.lua'),
  yadtqTakeRecovered: script(1, 'take-recovered.lua'),
};

/** Defines every script as a command of `redis` (EVALSHA, loaded on first use). */
export function defineScripts(redis: Redis): ScriptCommands {
  for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  return redis as unknown as ScriptCommands;
}

/** What the parts of the Redis store share: options, connection guard, scripts, key names. */
export interface StoreContext {
  readonly options: ResolvedRedisStoreOptions;
  readonly redis: Redis;
  readonly scripts: ScriptCommands;
  /** The finished-task events channel, `<prefix>events`. */
  readonly channel: string;
  /** `<prefix><kind>`, or `<prefix><kind>:<id>`. */
  key(kind: string, id?: string): string;
  /** Runs a command on the store's connection once it is ready (STORE_UNAVAILABLE else). */
  run<T>(command: () => Promise<T>): Promise<T>;
}
