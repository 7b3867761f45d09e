// The plugin's side of go-plugin's AutoMTLS: a fresh self-signed certificate
// per process, and the host's certificate as the only trusted peer.
import "reflect-metadata";
import { webcrypto, X509Certificate, randomBytes } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface PluginIdentity {
  /** PEM certificate presented as TLS server to the host and as TLS client to the broker. */
  certPem: string;
  /** PKCS#8 PEM private key. */
  keyPem: string;
  /** DER certificate in unpadded standard base64, as go-plugin's handshake line carries it. */
  certBase64Raw: string;
}

export class PluginCertificateError extends Error {}

/**
 * Creates the plugin's certificate. P-256 rather than go-plugin's P-521: it is
 * accepted by every Go TLS stack including FIPS builds, and it is faster. The
 * SAN must be "localhost" (the host verifies that name), the serial positive
 * (Go 1.23+ rejects negative ones), and both EKUs present because the same
 * certificate serves the main connection and dials the broker.
 */
export async function generatePluginIdentity(now = new Date()): Promise<PluginIdentity> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: "CN=localhost, O=HashiCorp",
    notBefore: new Date(now.getTime() - 30_000),
    notAfter: new Date(now.getTime() + 262_980 * 3600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.keyAgreement |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
  return {
    certPem: cert.toString("pem"),
    keyPem,
    certBase64Raw: Buffer.from(cert.rawData).toString("base64").replace(/=+$/, ""),
  };
}

/**
 * Validates the host certificate from PLUGIN_CLIENT_CERT and returns it as PEM.
 * Errors name the variable and the problem, never dump the value.
 */
export function parseHostCertificate(value: string | undefined): string {
  if (value === undefined || value.trim() === "") {
    throw new PluginCertificateError(
      "PLUGIN_CLIENT_CERT is not set: the host must start this plugin with AutoMTLS (Vault and OpenBao always do for protocol version 5)",
    );
  }
  if (!value.includes("-----BEGIN CERTIFICATE-----")) {
    throw new PluginCertificateError("PLUGIN_CLIENT_CERT is not a PEM certificate (no BEGIN CERTIFICATE block)");
  }
  try {
    const cert = new X509Certificate(value);
    if (new Date(cert.validTo).getTime() < Date.now()) {
      throw new PluginCertificateError(`PLUGIN_CLIENT_CERT expired on ${cert.validTo}`);
    }
    return cert.toString();
  } catch (err) {
    if (err instanceof PluginCertificateError) throw err;
    throw new PluginCertificateError(`PLUGIN_CLIENT_CERT could not be parsed as an X.509 certificate: ${(err as Error).message}`);
  }
}
