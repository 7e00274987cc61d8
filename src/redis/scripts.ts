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
  yadtqPrioritize(...keysAndArgs: Arg[]): Promise<number>;
  yadtqLow(...keysAndArgs: Arg[]): Promise<string[][]>;
  yadtqAdvanceSchedule(...keysAndArgs: Arg[]): Promise<number>;
  yadtqResume(...keysAndArgs: Arg[]): Promise<[number, number]>;
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
 * Where the arguments of a batch script's tasks are the same for every task of a call
 * (prefix, TTLs, channel): their positions in the one-task script's ARGV, sent once.
 */
export const SHARED_ARGS = {
  /** claim.lua: ARGV[1] prefix, ARGV[5] pending TTL, ARGV[10] lane stall. */
  claim: [1, 5, 10],
  /** finish.lua: ARGV[1] prefix, ARGV[11] retention, ARGV[12] pending TTL, ARGV[15] channel. */
  finish: [1, 11, 12, 15],
} as const;

/**
 * The batch form of a one-task script: its body run once per task, in order, inside one
 * script call (so each task's step is as atomic as alone, and a later one sees the earlier
 * ones). KEYS: one task key per task; ARGV: the shared arguments (`shared`: their
 * positions in a task's ARGV, in order), then per task its argument count and its other
 * arguments, in order. Replies: the one-task replies, in order.
 */
const manyTaskScript = (file: string, shared: readonly number[]) => ({
  lua: `${TASK_LIB}
local function one(KEYS, ARGV)
${lua(file)}
end
local SHARED = {${shared.join(', ')}}
local ns = #SHARED
local replies, at = {}, ns + 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[at])
  local args, s, k = {}, 1, at + 1
  for p = 1, n + ns do
    if SHARED[s] == p then
      args[p] = ARGV[s]
      s = s + 1
    else
      args[p] = ARGV[k]
      k = k + 1
    end
  end
  replies[i] = one({KEYS[i]}, args)
  at = at + n + 1
end
return replies`,
});

const SCRIPTS: Record<keyof ScriptCommands, { numberOfKeys?: number; lua: string }> = {
  // A batch of tasks: the caller passes the number of keys first.
  yadtqCreate: { lua: `${TASK_LIB}\n${lua('create.lua')}` },
  yadtqDiscard: taskScript('discard.lua'),
  // Batches of tasks: the caller passes the number of keys first.
  yadtqClaimMany: manyTaskScript('claim.lua', SHARED_ARGS.claim),
  yadtqFinishMany: manyTaskScript('finish.lua', SHARED_ARGS.finish),
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
  yadtqPrioritize: script(1, 'prioritize.lua'),
  yadtqLow: script(1, 'low.lua'),
  yadtqAdvanceSchedule: script(2, 'advance-schedule.lua'),
  yadtqResume: taskScript('resume.lua', 2),
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
