// Reads what a Node single executable is made of from its bytes, as the
// kernel and Node do: the ELF header's machine, and the note Node finds its
// application in at start-up (a PT_NOTE segment's note named NODE_SEA_BLOB).

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
const PT_NOTE = 4;

// From Node's src/node_sea.h: the blob's first word, and its flag bits.
export const SEA_MAGIC = 0x0143da20;
export const SEA_FLAG_USE_CODE_CACHE = 1 << 2;
export const SEA_FLAG_USE_SNAPSHOT = 1 << 1;
// Node reads this fuse to decide whether it is a single executable; injecting
// a blob flips it from :0 to :1.
export const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export interface SeaExecutable {
  machine: number;
  fuse: "0" | "1" | undefined;
  /** Where the blob is in the file, and its first two words. */
  blob: { offset: number; size: number; magic: number; flags: number } | undefined;
}

export function inspectExecutable(bytes: Buffer): SeaExecutable {
  if (bytes.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const machine = bytes.readUInt16LE(18);
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  let blob: SeaExecutable["blob"];
  for (let i = 0; i < phnum && !blob; i++) {
    const ph = phoff + i * phentsize;
    if (bytes.readUInt32LE(ph) !== PT_NOTE) continue;
    const offset = Number(bytes.readBigUInt64LE(ph + 8));
    const end = offset + Number(bytes.readBigUInt64LE(ph + 32));
    for (let at = offset; at + 12 <= end; ) {
      const namesz = bytes.readUInt32LE(at);
      const descsz = bytes.readUInt32LE(at + 4);
      const name = bytes.subarray(at + 12, at + 12 + namesz).toString("latin1").replace(/\0+$/, "");
      const desc = at + 12 + align4(namesz);
      if (name === "NODE_SEA_BLOB") {
        blob = { offset: desc, size: descsz, magic: bytes.readUInt32LE(desc), flags: bytes.readUInt32LE(desc + 4) };
        break;
      }
      at = desc + align4(descsz);
    }
  }
  const fuseAt = bytes.indexOf(`${SEA_FUSE}:`, 0, "latin1");
  const fuseChar = fuseAt < 0 ? undefined : String.fromCharCode(bytes[fuseAt + SEA_FUSE.length + 1]!);
  return { machine, fuse: fuseChar === "0" || fuseChar === "1" ? fuseChar : undefined, blob };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
