import { defineSolution, type SolutionDefinition } from './definition.ts';
import type { BuildOptions } from './options.ts';
import { buildWebResources, type WebResourceContents } from './webresource/build.ts';
import { webResourceFileName } from './xml/components.ts';
import { contentTypesXml } from './xml/content-types.ts';
import { customizationsXml } from './xml/customizations.ts';
import { solutionXml } from './xml/solution.ts';
import { writeZip, type ZipEntry } from './zip.ts';

/**
 * Definition + built web resources → the files of a solution zip → the zip. Split so tests (and a future
 * `pac solution check` step) can look at the files without unzipping.
 */

export type PackageType = 'managed' | 'unmanaged';

export function solutionFiles(def: SolutionDefinition, contents: WebResourceContents, type: PackageType): ZipEntry[] {
  const bodies = def.webResources.map((w) => ({ path: webResourceFileName(w), data: contents[w.content] }));
  return [
    // Root files first, as in Dynamics' own exports, then the web resource bodies (zip paths have no leading slash).
    { path: '[Content_Types].xml', data: contentTypesXml(bodies.map((b) => b.path)) },
    { path: 'customizations.xml', data: customizationsXml(def) },
    { path: 'solution.xml', data: solutionXml(def, type === 'managed') },
    ...bodies.map((b) => ({ path: b.path.replace(/^\//, ''), data: b.data })),
  ];
}

/** `HubSpotDynamicsSync_1.0.0.0_managed.zip` */
export const zipFileName = (def: SolutionDefinition, type: PackageType): string => `${def.solution.uniqueName}_${def.solution.version}_${type}.zip`;

export interface BuiltPackage {
  type: PackageType;
  fileName: string;
  bytes: Buffer;
}

export async function buildSolutionPackages(options: Partial<BuildOptions>, types: PackageType[] = ['managed']): Promise<{ definition: SolutionDefinition; packages: BuiltPackage[] }> {
  const definition = defineSolution(options);
  const contents = await buildWebResources({ prefix: definition.options.prefix, serverUrl: definition.options.serverUrl });
  const packages: BuiltPackage[] = [];
  for (const type of types) {
    packages.push({ type, fileName: zipFileName(definition, type), bytes: await writeZip(solutionFiles(definition, contents, type)) });
  }
  return { definition, packages };
}
