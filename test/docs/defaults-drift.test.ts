import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

const readme = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8');
const optionsSource = readFileSync(new URL('../../src/options.ts', import.meta.url), 'utf8');

/** DEFAULTS flattened to `name` / `group.name` → value. */
function flatDefaults(): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(DEFAULTS)) {
    if (typeof value === 'object' && value !== null) {
      for (const [inner, innerValue] of Object.entries(value)) out.set(`${key}.${inner}`, innerValue);
    } else out.set(key, value);
  }
  return out;
}

function format(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** The option table of docs/reference.md: `name` → the text of its default cell, without backticks. */
function readmeDefaults(): Map<string, string> {
  const rows = new Map<string, string>();
  const section = readme.slice(readme.indexOf('## Options'), readme.indexOf('## Node lifecycle'));
  for (const line of section.split('\n')) {
    const match = /^\| `([\w.]+)` \| ([^|]+) \|/.exec(line);
    if (match) rows.set(match[1]!, match[2]!.trim().replaceAll('`', ''));
  }
  return rows;
}

/** The `@default` of each option in options.ts, by property name within its interface. */
function tsdocDefaults(): Map<string, string> {
  const found = new Map<string, string>();
  let group = '';
  const groups: Record<string, string> = { QueueOptions: 'queue.', HeartbeatOptions: 'heartbeat.', ReconnectingSocketOptions: '' };
  let pending: string | undefined;
  for (const line of optionsSource.split('\n')) {
    const iface = /^export interface (\w+)/.exec(line);
    if (iface) group = groups[iface[1]!] ?? '?';
    const doc = /@default (.+)$/.exec(line);
    if (doc) pending = doc[1]!.trim();
    const prop = /^ {2}(\w+)\?:/.exec(line);
    if (prop && pending !== undefined) {
      found.set(group + prop[1], pending);
      pending = undefined;
    }
  }
  return found;
}

describe('documented defaults', () => {
  it('the option table of docs/reference.md states every default exactly as DEFAULTS has it', () => {
    const table = readmeDefaults();
    for (const [name, value] of flatDefaults()) {
      expect(table.get(name), `docs/reference.md row for ${name}`).toBe(format(value));
    }
  });

  it('the TSDoc @default of every option agrees with DEFAULTS', () => {
    const docs = tsdocDefaults();
    for (const [name, value] of flatDefaults()) {
      const doc = docs.get(name);
      expect(doc, `@default for ${name}`).toBeDefined();
      // The doc may add a gloss in parentheses, e.g. "1048576 (1 MiB)".
      expect(doc!.replace(/\s*\(.*\)$/, ''), `@default for ${name}`).toBe(format(value));
    }
  });

  it('the grouped @default of heartbeat and queue agree with DEFAULTS', () => {
    const docs = tsdocDefaults();
    for (const group of ['heartbeat', 'queue'] as const) {
      const doc = docs.get(group)!;
      for (const [key, value] of Object.entries(DEFAULTS[group])) expect(doc).toContain(`${key}: ${format(value)}`);
    }
  });

  it('every option docs/reference.md lists is one resolveOptions accepts', () => {
    for (const name of readmeDefaults().keys()) {
      const [head, inner] = name.split('.');
      const options = inner ? { [head!]: {} } : {};
      expect(() => resolveOptions(options)).not.toThrow();
      if (!inner) expect(() => resolveOptions({ [head!]: undefined })).not.toThrow();
    }
  });

  it('resolveOptions applies DEFAULTS when nothing is given', () => {
    const resolved = resolveOptions({}) as unknown as Record<string, unknown>;
    for (const [name, value] of flatDefaults()) {
      const [head, inner] = name.split('.');
      const actual = inner ? (resolved[head!] as Record<string, unknown>)[inner] : resolved[head!];
      expect(actual, name).toBe(value);
    }
  });
});
