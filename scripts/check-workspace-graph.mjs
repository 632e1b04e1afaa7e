// `pnpm lint` runs this: the workspace's packages must form no cycle, counting devDependencies
// (a package's tests that need a package depending on it belong with that package, or in test/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';

/** Each workspace package's name and the workspace packages it depends on, dev included. */
export function workspaceGraph(root) {
  const manifests = [
    'test',
    ...readdirSync(path.join(root, 'packages')).map((d) => `packages/${d}`),
  ]
    .map((directory) => path.join(root, directory, 'package.json'))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')));
  const names = new Set(manifests.map((manifest) => manifest.name));
  return new Map(
    manifests.map((manifest) => [
      manifest.name,
      Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) =>
        names.has(name),
      ),
    ]),
  );
}

/** A cycle as the list of packages along it (first repeated last), or undefined. */
export function findCycle(graph) {
  const state = new Map();
  const trail = [];
  const visit = (name) => {
    state.set(name, 'open');
    trail.push(name);
    for (const next of graph.get(name) ?? []) {
      if (state.get(next) === 'open') return [...trail.slice(trail.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    trail.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of graph.keys()) {
    if (state.has(name)) continue;
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cycle = findCycle(workspaceGraph(process.cwd()));
  if (cycle) {
    process.stderr.write(
      `workspace dependency cycle (devDependencies count): ${cycle.join(' → ')}\n` +
        "move the tests that need a dependent package to that package's tests, or to test/\n",
    );
    process.exit(1);
  }
}
