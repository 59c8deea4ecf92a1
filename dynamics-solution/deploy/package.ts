import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';
import { SOLUTION_UNIQUE_NAME } from '../definition.ts';
import { buildSolutionPackages, type PackageType } from '../generate.ts';
import { DEFAULT_OPTIONS } from '../options.ts';

/** The zip to import and the facts the deploy decides by (upgrade or not, which component ids to connect). */
export interface SolutionPackage {
  /** Where it came from: the file, or "built now". */
  source: string;
  bytes: Buffer;
  version: string;
  type: PackageType;
  prefix: string;
}

export class PackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageError';
  }
}

/** Reads solution.xml of a zip and makes sure it is our solution. */
export async function readPackage(path: string, bytes: Buffer): Promise<SolutionPackage> {
  let manifest: Record<string, unknown>;
  try {
    const zip = await JSZip.loadAsync(bytes);
    const xml = await zip.file('solution.xml')?.async('string');
    if (xml === undefined) throw new Error('it has no solution.xml at its root');
    const doc = new XMLParser({ parseTagValue: false }).parse(xml.replace(/^\uFEFF/, '')) as { ImportExportXml?: { SolutionManifest?: Record<string, unknown> } };
    manifest = doc.ImportExportXml?.SolutionManifest ?? {};
  } catch (err) {
    throw new PackageError(`${path} is not a solution zip (${(err as Error).message}): build one with npm run package-solution.`);
  }
  const publisher = (manifest.Publisher ?? {}) as Record<string, unknown>;
  if (manifest.UniqueName !== SOLUTION_UNIQUE_NAME) {
    throw new PackageError(`${path} holds the solution '${String(manifest.UniqueName ?? '?')}', not ${SOLUTION_UNIQUE_NAME}: build ours with npm run package-solution.`);
  }
  return {
    source: path, bytes,
    version: String(manifest.Version),
    type: manifest.Managed === '1' ? 'managed' : 'unmanaged',
    prefix: String(publisher.CustomizationPrefix),
  };
}

/** The same zip `npm run package-solution` would write for these options. */
export async function buildPackage(o: { serverUrl: string; version?: string; prefix?: string; type: PackageType }): Promise<SolutionPackage> {
  const { definition, packages } = await buildSolutionPackages({ serverUrl: o.serverUrl, version: o.version ?? DEFAULT_OPTIONS.version, prefix: o.prefix }, [o.type]);
  const [p] = packages;
  return { source: `${p.fileName} (built now)`, bytes: p.bytes, version: definition.solution.version, type: o.type, prefix: definition.options.prefix };
}
