/**
 * Helpers for the test suites of every package: skipping where an outside program is missing
 * (with a one-line reason; CI installs them all and fails on any skip).
 */
import { spawnSync } from 'node:child_process';

const found = new Map<string, boolean>();

export function hasProgram(name: string): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
    found.set(name, ok);
  }
  return ok;
}

/** In a mocha `before`/`it`: skip (with the reason in the title) unless `name` is installed. */
export function requireProgram(ctx: Mocha.Context, name: string): void {
  if (!hasProgram(name)) {
    const title = ctx.currentTest ?? ctx.test;
    if (title) title.title += ` (skipped: ${name} not installed)`;
    ctx.skip();
  }
}
