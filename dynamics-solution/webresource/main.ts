import { CONFIG_GLOBAL } from './config.ts';
import { loadPanel } from './panel.ts';
import { createRecordReader } from './record.ts';
import { renderState } from './render.ts';

/**
 * Browser entry of the HubSpot panel (bundled by build.ts into panel.html). The DOM is reached through
 * `globalThis` with the few members used, so the repo's Node-only type check needs no DOM library.
 */

/** Replaced at build time with the solution's customization prefix. */
declare const __HDS_PREFIX__: string;

interface PageGlobals {
  location: { search: string; origin: string };
  document: { getElementById(id: string): { innerHTML: string; setAttribute(n: string, v: string): void } | null };
  fetch: typeof fetch;
  [CONFIG_GLOBAL]?: unknown;
}

async function main(): Promise<void> {
  const page = globalThis as unknown as PageGlobals;
  const root = page.document.getElementById('app');
  if (!root) return;
  const state = await loadPanel({
    search: page.location.search,
    rawConfig: page[CONFIG_GLOBAL],
    readRecord: createRecordReader(__HDS_PREFIX__, page.location.origin),
    fetch: (url, init) => page.fetch(url, init),
  });
  root.innerHTML = renderState(state);
  root.setAttribute('aria-busy', 'false');
}

void main();
