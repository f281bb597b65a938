// The folders of src/ follow the data flow one way: no folder reaches back into one that imports
// it (the console, web/console, sits on top of everything and nothing imports it).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `web/console` is a node of its own; every other file belongs to its top-level folder. */
function nodeOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  if (parts.length === 1) return '.';
  if (parts[0] === 'web' && parts[1] === 'console') return 'web/console';
  return parts[0]!;
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files(SRC)) {
    const from = nodeOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'|^import '(\.[^']+)'/gm)) {
      const to = nodeOf(resolve(dirname(file), (match[1] ?? match[2])!));
      if (to !== from && to !== '.' && from !== '.') (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
    }
  }
  return graph;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('folder dependencies', () => {
  it('have no circle (accounts → router → oauth → accounts is gone)', () => {
    const graph = folderGraph();
    expect(graph.get('accounts')?.has('router') ?? false).toBe(false);
    expect(findCycle(graph)).toBeUndefined();
  });
});
