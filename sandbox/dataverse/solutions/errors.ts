import { DataverseError } from '../errors.ts';

/**
 * Solution import error codes. The hex values are the platform's ImportErrorCodes (the same enum the
 * SDK ships; e.g. ImportSolutionError = -2147188685 = 0x80048033). Which code a given failure gets is
 * partly the sandbox's choice where Dataverse's exact behaviour is unknown; README lists those.
 */
export const ImportCodes = {
  /** An error occurred while importing a Solution (catch-all). */
  ImportSolutionError: '0x80048033',
  /** The compressed file must contain solution.xml, customizations.xml and [Content_Types].xml at its root. */
  BadZipFile: '0x80048060',
  /** Invalid customization file. This file is not well formed. */
  NonWellFormedFile: '0x80048013',
  /** The import file is invalid. XSD validation failed … */
  XsdValidation: '0x8004801a',
  /** The following solution cannot be imported: {0}. Some dependencies are missing. */
  MissingDependencies: '0x8004801d',
  /** The import has failed because component {0} of type {1} is not declared in the solution file as a root component. */
  MissingRootComponentEntry: '0x8004803a',
  /** Invalid name for attribute {0}. Custom attribute names must start with a valid customization prefix. */
  AttributeName: '0x80048062',
  /** Installed unmanaged, package managed. */
  ManagedToUnmanagedMismatch: '0x80048040',
  /** Installed managed, package unmanaged. */
  UnmanagedToManagedMismatch: '0x80048041',
  /** The publisher name cannot be changed. */
  WrongPublisher: '0x8004801c',
  /** FormXml the sandbox cannot merge. */
  FormXml: '0x80048007',
} as const;

export const importError = (code: string, message: string) => new DataverseError(400, code, message);

export interface MissingDependency {
  required: { type: number; schemaName: string };
  dependent: { type: number; schemaName: string };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Dataverse lists the missing pieces as a MissingDependencies XML fragment inside the message. */
export function missingDependencies(solution: string, missing: MissingDependency[]): DataverseError {
  const xml = missing.map((m) =>
    `<MissingDependency canResolveMissingDependency="False"><Required type="${m.required.type}" schemaName="${esc(m.required.schemaName)}" /><Dependent type="${m.dependent.type}" schemaName="${esc(m.dependent.schemaName)}" /></MissingDependency>`).join('');
  return importError(ImportCodes.MissingDependencies,
    `The following solution cannot be imported: ${solution}. Some dependencies are missing. The missing dependencies are : <MissingDependencies>${xml}</MissingDependencies> , ProductUpdatesOnly : False`);
}
