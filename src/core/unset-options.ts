import type { TaskOptions } from './define-task.ts';

/**
 * The run options an envelope carries that a submitter may leave to the task's
 * definition. A task submitted by name is sent with the client's defaults for these and
 * marked as leaving them unset; the worker that claims it fills them from its definition.
 */
export const UNSET_OPTIONS = ['timeoutMs', 'maxAttempts'] as const;

/** One of {@link UNSET_OPTIONS}. */
export type UnsetOption = (typeof UNSET_OPTIONS)[number];

/** The values a claim writes into the record in place of the client's defaults. */
export type OptionFill = Partial<Record<UnsetOption, number>>;

/** True when `name` is one of {@link UNSET_OPTIONS}. */
export function isUnsetOption(name: unknown): name is UnsetOption {
  return UNSET_OPTIONS.includes(name as UnsetOption);
}

/**
 * What the definition gives for the options the submitter left unset; undefined when it
 * gives none of them (then the envelope's values, the defaults, stand).
 */
export function fillFromDefinition(
  unset: readonly UnsetOption[] | undefined,
  definition: Readonly<TaskOptions> | undefined,
): OptionFill | undefined {
  if (unset === undefined || unset.length === 0 || definition === undefined) return undefined;
  const fill: OptionFill = {};
  for (const option of unset) {
    const value = definition[option];
    if (value !== undefined) fill[option] = value;
  }
  return Object.keys(fill).length === 0 ? undefined : fill;
}
