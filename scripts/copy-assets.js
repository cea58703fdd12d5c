// Copies the JSON Schemas next to the compiled code: dist/schemas mirrors src/schemas, so
// modules find them at the same relative path whether they run from src (tests) or dist.
import { cpSync, statSync } from 'node:fs';

cpSync('src/schemas', 'dist/schemas', {
  recursive: true,
  filter: (source) => statSync(source).isDirectory() || source.endsWith('.json'),
});
