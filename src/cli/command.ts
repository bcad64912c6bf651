/** What a command is (name, help, options, run) and helpers to read its option values. */
import type { ParseArgsConfig } from 'node:util';
import type { ApiClient } from './api-client.ts';
import { UsageError } from './errors.ts';
import type { Output } from './output.ts';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  values: OptionValues;
  /** Positionals after the command words. */
  args: string[];
  api: ApiClient;
  out: Output;
}

export interface Command {
  group: string;
  /** '' for a command that is a word of its own (`ks-isv probe`). */
  name: string;
  summary: string;
  /** Arguments after `ks-isv <group> <name>`, for the usage line. */
  usage: string;
  /** Help lines: options and notes. */
  help?: string[];
  options?: OptionsConfig;
  /** Names of the required positionals, in order (no more are accepted). */
  args?: string[];
  /** Resolves to the exit code (0 when nothing is returned). */
  run(ctx: CommandContext): Promise<number | void>;
}

/** The words that call a command: `rollout create`, or `probe`. */
export function commandWords(command: Pick<Command, 'group' | 'name'>): string {
  return command.name === '' ? command.group : `${command.group} ${command.name}`;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} needs a value`);
  return value;
}

export function requiredString(values: OptionValues, name: string, what: string): string {
  const value = stringOption(values, name);
  if (value === undefined) throw new UsageError(`--${name} ${what} is required`);
  return value;
}

/** A repeatable option; each occurrence may also hold a comma-separated list. */
export function listOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  const all = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return all.flatMap((item) => String(item).split(',')).map((item) => item.trim()).filter((item) => item !== '');
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function intOption(values: OptionValues, name: string, range: { min: number; max: number }): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, got '${text}'`);
  }
  return value;
}

export function oneOf<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${text}'`);
  return text as T;
}
