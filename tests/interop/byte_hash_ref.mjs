// The byte sponge of docs/proofs.md written independently over circomlibjs's Poseidon.
// Reads one hex string per line (possibly empty) and prints the decimal hash of its bytes.
import { buildPoseidon } from "circomlibjs";
import { createInterface } from "node:readline";

const poseidon = await buildPoseidon();
const domain = BigInt("0x" + Buffer.from("rustorium.bytes.v1", "ascii").toString("hex"));
const pieceOf = (buf) => {
  let v = 0n;
  for (let i = buf.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[i]);
  return v;
};
const out = [];
for await (const line of createInterface({ input: process.stdin })) {
  const bytes = Buffer.from(line.trim(), "hex");
  const pieces = [];
  for (let at = 0; at < bytes.length; at += 31) pieces.push(pieceOf(bytes.subarray(at, at + 31)));
  let h = poseidon([domain, BigInt(bytes.length), ...pieces.slice(0, 14)]);
  for (let at = 14; at < pieces.length; at += 15) {
    h = poseidon([h, ...pieces.slice(at, at + 15)]);
  }
  out.push(poseidon.F.toString(h));
}
process.stdout.write(out.join("\n") + "\n");
