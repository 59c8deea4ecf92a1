import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { configScript, type PanelConfig } from './config.ts';

/**
 * Builds the web resource bodies: panel.html with the TypeScript bundle inlined (one file, one request,
 * nothing loaded from outside the org), and config.js. esbuild output is deterministic for the same sources
 * and esbuild version, which keeps the zip byte-identical across runs.
 */

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const PLACEHOLDER = '/*__PANEL_BUNDLE__*/';

/**
 * xrm-webapi-client ships bluebird inside its minified file, with documentation links in warning strings
 * and a comment. They are never fetched, but the page promises to contain no external URL at all, so the
 * scheme is dropped from exactly those links (the text stays readable). The count check makes a library
 * update with new links fail the build instead of slipping through.
 */
const VENDOR_LINKS: Array<[string, string]> = [
  ['http://goo.gl/', 'goo.gl/'],
  ['https://github.com/terser/terser/issues/575', 'github.com/terser/terser/issues/575'],
];
const vendorLinks: Plugin = {
  name: 'defang-vendor-links',
  setup(b) {
    b.onLoad({ filter: /xrm-webapi-client[\\/]dist[\\/]WebApiClient\.min\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      for (const [from, to] of VENDOR_LINKS) source = source.split(from).join(to);
      const left = source.match(/https?:\/\/[^\s"'`)]+/g);
      if (left) throw new Error(`xrm-webapi-client contains links the panel build does not know: ${left.join(', ')}; review them and extend VENDOR_LINKS`);
      return { contents: source, loader: 'js' };
    });
  },
};

export async function bundlePanelScript(prefix: string): Promise<string> {
  const result = await build({
    entryPoints: [here('./main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    // Unified Interface supports current Edge/Chrome/Firefox/Safari only.
    target: ['es2020'],
    minify: true,
    charset: 'utf8',
    // Licence headers of bundled code (xrm-webapi-client, bluebird: MIT) stay in the page.
    legalComments: 'eof',
    define: { __HDS_PREFIX__: JSON.stringify(prefix) },
    plugins: [vendorLinks],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export async function buildPanelHtml(prefix: string): Promise<string> {
  const template = readFileSync(here('./panel.html'), 'utf8');
  if (!template.includes(PLACEHOLDER)) throw new Error(`panel.html lost its ${PLACEHOLDER} marker`);
  // Inside a <script> element only `</script` can end it early; `<\/` means the same in JS strings and regexes.
  const script = (await bundlePanelScript(prefix)).replace(/<\/(script)/gi, '<\\/$1').trimEnd();
  return template.split(PLACEHOLDER).join(script);
}

export interface WebResourceContents {
  panel: Buffer;
  config: Buffer;
}

/** The packaged config carries the server URL and no credential: the connect step sets that. */
export async function buildWebResources(o: { prefix: string; serverUrl: string }): Promise<WebResourceContents> {
  const config: PanelConfig = { serverUrl: o.serverUrl, embedCredential: null };
  return { panel: Buffer.from(await buildPanelHtml(o.prefix), 'utf8'), config: Buffer.from(configScript(config), 'utf8') };
}
