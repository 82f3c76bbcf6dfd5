import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Layers, lowest first: lib/contracts → lib/functions → lib/constructs → lib/stacks → lib/app.
 * A handler that imports from a higher layer drags CDK code (or its assumptions) into a Lambda
 * bundle and splits one definition between two owners; shared shapes belong in lib/contracts.
 */
const lib = path.join(__dirname, '..', '..', 'lib');
const HIGHER_LAYERS = ['constructs', 'stacks', 'app', 'config', 'compliance', 'cli'].map((layer) => path.join(lib, layer) + path.sep);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** Every relative module specifier of a file: import/export ... from, import(), require(). */
function relativeSpecifiers(source: string): string[] {
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  return [...source.matchAll(pattern)].map((match) => match[1]);
}

describe('layering', () => {
  it('finds the import forms it checks', () => {
    const source = "import a from '../x';\nexport { b } from './y';\nconst c = require('../../z');\nimport './side-effect';\nconst d = import('../e');\n";
    expect(relativeSpecifiers(source)).toEqual(['../x', './y', '../../z', './side-effect', '../e']);
  });

  it.each([['functions'], ['contracts']])('no module under lib/%s imports from lib/constructs, stacks, app, config, compliance or cli', (layer) => {
    const offenders = sourceFiles(path.join(lib, layer)).flatMap((file) =>
      relativeSpecifiers(fs.readFileSync(file, 'utf8'))
        .map((specifier) => path.resolve(path.dirname(file), specifier))
        .filter((target) => HIGHER_LAYERS.some((higher) => target.startsWith(higher) || target + path.sep === higher))
        .map((target) => `${path.relative(lib, file)} -> ${path.relative(lib, target)}`),
    );
    expect(offenders).toEqual([]);
  });
});
