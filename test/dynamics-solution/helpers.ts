import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';
import { buildSolutionPackages, type BuiltPackage, type PackageType } from '../../dynamics-solution/generate.ts';
import type { BuildOptions } from '../../dynamics-solution/options.ts';

export const REPO = new URL('../../', import.meta.url).pathname;
export const XSD = '/work/shared/schemas/dataverse/libxml2/CustomizationsSolution.xsd';

const cache = new Map<string, Promise<BuiltPackage[]>>();
/** Builds (once per option set) and returns the packages. */
export function packagesFor(options: Partial<BuildOptions> = {}, types: PackageType[] = ['managed', 'unmanaged']): Promise<BuiltPackage[]> {
  const key = JSON.stringify([options, types]);
  if (!cache.has(key)) cache.set(key, buildSolutionPackages(options, types).then((r) => r.packages));
  return cache.get(key)!;
}

export interface Unzipped {
  names: string[];
  text(name: string): Promise<string>;
  bytes(name: string): Promise<Buffer>;
}

export async function unzip(bytes: Buffer): Promise<Unzipped> {
  const zip = await JSZip.loadAsync(bytes);
  return {
    names: Object.keys(zip.files),
    text: async (n) => (await zip.file(n)!.async('nodebuffer')).toString('utf8'),
    bytes: (n) => zip.file(n)!.async('nodebuffer'),
  };
}

/** Elements that can repeat are always arrays, so tests index them the same way for one or many. */
const ARRAYS = new Set(['Entity', 'attribute', 'EntityKey', 'AttributeName', 'systemform', 'tab', 'WebResource', 'SdkMessageProcessingStep', 'ServiceEndpoint', 'RootComponent', 'option', 'Override', 'forms']);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, parseAttributeValue: false, isArray: (name) => ARRAYS.has(name) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const parseXml = (xml: string): any => parser.parse(xml.replace(/^\uFEFF/, ''));

export function xmllint(xml: string): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hds-xsd-'));
  const file = join(dir, 'customizations.xml');
  writeFileSync(file, xml);
  return new Promise((resolve) => {
    execFile('xmllint', ['--noout', '--schema', XSD, file], (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }));
  });
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/package-solution.ts'), ...args], { cwd: REPO, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
