import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderMappingMarkdown } from '../server/src/sync/rules/pairs.ts';

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('shows the default field mapping exactly as the code applies it', () => {
    assert.ok(readme.includes(renderMappingMarkdown().trim()), 'README is out of date: paste the output of renderMappingMarkdown() into "Default field mapping"');
  });

  it('keeps the two quick-start commands', () => {
    assert.match(readme, /npm ci && npm start/);
    assert.match(readme, /npm ci && npm test/);
  });
});
