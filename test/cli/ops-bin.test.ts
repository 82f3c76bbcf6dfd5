import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

describe('bin/lakestream.js lists the operator commands', () => {
  it.each(['status', 'smoke', 'replay', 'cost'])(
    'prints help for %s and exits 0',
    async (command) => {
      const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin', 'lakestream.js'), command, '--help'], { cwd: ROOT });
      expect(stdout).toContain(`Usage: lakestream ${command}`);
      expect(stdout).toContain('--env <name>');
      expect(stdout).toContain('--json');
    },
    30_000,
  );
});
