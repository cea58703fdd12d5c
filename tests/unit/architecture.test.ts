/**
 * No import circles in src/: the modules form layers (pure options, rules and stores at the
 * bottom; state and request context above them; routes, hooks and runners on top), and a module
 * never imports, directly or through others, one that imports it. Type-only imports count too:
 * a circle of types is still a hidden circle in the design. Dynamic `import('./x.js')` counts as
 * well. Imports are read with TypeScript's own scanner (ts.preProcessFile), so comments and
 * strings are not mistaken for imports; the circles are Tarjan's strongly connected components.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

type ImportGraph = ReadonlyMap<string, readonly string[]>;

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names ('./x.js' is x.ts under NodeNext), or null for a package. */
function resolveRelative(from: string, specifier: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** Every .ts file under `root` with the files it imports (static, type-only, re-exports, dynamic). */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of typeScriptFiles(root)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map((ref) => resolveRelative(file, ref.fileName)).filter((path): path is string => path !== null);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components of more than one file, or of one file that imports itself (Tarjan). */
function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

/** One concrete loop through the component's first file (shortest, by breadth-first search), e.g. a -> b -> a. */
function loopThrough(graph: ImportGraph, component: readonly string[]): string[] {
  const inside = new Set(component);
  const start = component[0] as string;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const target of graph.get(file) ?? []) {
      if (!inside.has(target)) continue;
      if (target === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  return [start];
}

function describeCycles(graph: ImportGraph, root: string): string[] {
  const name = (file: string) => relative(root, file);
  return importCycles(graph).map(
    (component) => `cycle of ${component.length}: ${component.map(name).join(', ')}\n  e.g. ${loopThrough(graph, component).map(name).join(' -> ')}`,
  );
}

describe('import cycles', () => {
  it('finds none anywhere in src/', () => {
    const graph = importGraph(SRC);
    expect(graph.size).toBeGreaterThan(100);
    expect(describeCycles(graph, SRC)).toEqual([]);
  });

  it('reads type-only imports, re-exports and dynamic imports as edges', () => {
    const graph = importGraph(SRC);
    const edges = (file: string) => (graph.get(join(SRC, file)) ?? []).map((path) => relative(SRC, path));
    // import type { SandboxState } from './state.js' is context.ts's only way to the state.
    expect(edges('sandbox/context.ts')).toContain('sandbox/state.ts');
    // export type { SandboxOptions } from './options.js'
    expect(edges('sandbox/server.ts')).toContain('sandbox/options.ts');
    // await import('./channels/email.js')
    expect(edges('notify/index.ts')).toContain('notify/channels/email.ts');
  });

  it('names every file of a circle and one loop through it', () => {
    const graph: ImportGraph = new Map([
      ['/r/state.ts', ['/r/runner.ts', '/r/options.ts']],
      ['/r/runner.ts', ['/r/hooks.ts']],
      ['/r/hooks.ts', ['/r/state.ts']],
      ['/r/options.ts', []],
      ['/r/self.ts', ['/r/self.ts']],
      ['/r/server.ts', ['/r/state.ts', '/r/runner.ts']],
    ]);
    expect(describeCycles(graph, '/r').sort()).toEqual([
      'cycle of 1: self.ts\n  e.g. self.ts -> self.ts',
      'cycle of 3: hooks.ts, runner.ts, state.ts\n  e.g. hooks.ts -> state.ts -> runner.ts -> hooks.ts',
    ]);
  });

  it('finds none in a layered graph', () => {
    const graph: ImportGraph = new Map([
      ['/r/options.ts', []],
      ['/r/state.ts', ['/r/options.ts']],
      ['/r/runner.ts', ['/r/state.ts', '/r/options.ts']],
      ['/r/server.ts', ['/r/state.ts', '/r/runner.ts']],
    ]);
    expect(describeCycles(graph, '/r')).toEqual([]);
  });
});
