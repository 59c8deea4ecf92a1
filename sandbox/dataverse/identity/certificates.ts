import { generate } from 'selfsigned';

export interface TlsMaterial {
  /** PEM of the throw-away CA; clients trust the sandbox by passing it as `ca`. */
  caCert: string;
  /** Leaf key and certificate (signed by the CA) that the HTTPS server presents. */
  key: string;
  cert: string;
}

/**
 * A fresh CA plus a leaf for 127.0.0.1/localhost, made at every start so no key ever lives in the repo.
 * A separate CA (rather than one self-signed leaf) mirrors how real trust works: clients pin the issuer,
 * and the leaf carries the serverAuth usage and IP/DNS names that Node's hostname check looks at.
 * EC keys because they are generated in milliseconds; Node accepts them like RSA.
 */
export async function generateTlsMaterial(): Promise<TlsMaterial> {
  const ca = await generate([{ name: 'commonName', value: 'Dataverse Sandbox Identity CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { caCert: ca.cert, key: leaf.private, cert: leaf.cert };
}
