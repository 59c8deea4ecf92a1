import JSZip from 'jszip';

/**
 * Deterministic zip: entries in the given order, one fixed timestamp (DOS time is written in UTC by jszip,
 * so the time zone of the build machine does not matter), no directory entries (Dynamics' exports have
 * none), DEFLATE at a fixed level. Same files in → same bytes out.
 */

export const ZIP_DATE = new Date(Date.UTC(2024, 0, 1, 0, 0, 0));

export interface ZipEntry {
  path: string;
  data: Buffer | string;
}

export async function writeZip(entries: ZipEntry[]): Promise<Buffer> {
  const zip = new JSZip();
  for (const e of entries) {
    zip.file(e.path, e.data, { date: ZIP_DATE, createFolders: false, binary: typeof e.data !== 'string' });
  }
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 }, platform: 'DOS' });
}
