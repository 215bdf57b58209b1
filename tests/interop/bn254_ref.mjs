// Reference BN254 arithmetic from ffjavascript's bn128 (snarkjs's engine). Reads one JSON
// command per line on stdin and prints one JSON answer per line. Numbers are decimal
// strings; G1 points are [x, y] affine, G2 points [[x.c0, x.c1], [y.c0, y.c1]], and null is
// the point at infinity.
//   {"g1mul": k} / {"g2mul": k}     -> {"point": k·generator}
//   {"g1": P} / {"g2": Q}           -> {"uncompressed": hex, "compressed": hex, "lem": hex,
//                                       "fromCompressed": point read back from "compressed"}
//   {"pairing": [[P, Q], ...]}      -> {"f12": [12 decimals]}: the product of the pairings
//   {"pairingEq": [[P, Q], ...]}    -> {"one": bool} from ffjavascript's pairingEq
//   {"fft": [a0, ...]} / {"ifft": ...} -> {"values": [...]}: Fr.fft / Fr.ifft (n a power of 2)
// An error answers {"error": "..."}.
import { buildBn128 } from "ffjavascript";
import { createInterface } from "node:readline";

const curve = await buildBn128(true);
const { G1, G2, F12, Fr } = curve;
const frVector = async (values, op) => {
  const buff = new Uint8Array(32 * values.length);
  values.forEach((v, i) => buff.set(Fr.e(BigInt(v)), 32 * i));
  const res = await op(buff);
  return values.map((_, i) => Fr.toString(res.slice(32 * i, 32 * i + 32)));
};

const hex = (u8) => Buffer.from(u8).toString("hex");
const dec = (v) => v.toString();
const g1In = (p) => (p === null ? G1.zeroAffine : G1.fromObject([BigInt(p[0]), BigInt(p[1]), 1n]));
const g2In = (p) =>
  p === null
    ? G2.zeroAffine
    : G2.fromObject([p[0].map(BigInt), p[1].map(BigInt), [1n, 0n]]);
const g1Out = (p) => {
  if (G1.isZero(p)) return null;
  const [x, y] = G1.toObject(G1.toAffine(p));
  return [dec(x), dec(y)];
};
const g2Out = (p) => {
  if (G2.isZero(p)) return null;
  const [x, y] = G2.toObject(G2.toAffine(p));
  return [x.map(dec), y.map(dec)];
};
const forms = (G, p, n8) => {
  const u = new Uint8Array(2 * n8);
  G.toRprUncompressed(u, 0, p);
  const c = new Uint8Array(n8);
  G.toRprCompressed(c, 0, p);
  const l = new Uint8Array(2 * n8);
  G.toRprLEM(l, 0, G.toAffine(p));
  return { uncompressed: hex(u), compressed: hex(c), lem: hex(l), back: G.fromRprCompressed(c, 0) };
};
const f12Out = (e) => F12.toObject(e).flat(2).map(dec);

const out = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  const cmd = JSON.parse(line);
  try {
    if (cmd.g1mul !== undefined) {
      out.push({ point: g1Out(G1.timesScalar(G1.g, BigInt(cmd.g1mul))) });
    } else if (cmd.g2mul !== undefined) {
      out.push({ point: g2Out(G2.timesScalar(G2.g, BigInt(cmd.g2mul))) });
    } else if (cmd.g1 !== undefined) {
      const f = forms(G1, g1In(cmd.g1), 32);
      out.push({ uncompressed: f.uncompressed, compressed: f.compressed, lem: f.lem, fromCompressed: g1Out(f.back) });
    } else if (cmd.g2 !== undefined) {
      const f = forms(G2, g2In(cmd.g2), 64);
      out.push({ uncompressed: f.uncompressed, compressed: f.compressed, lem: f.lem, fromCompressed: g2Out(f.back) });
    } else if (cmd.pairing !== undefined) {
      let acc = F12.one;
      for (const [p, q] of cmd.pairing) acc = F12.mul(acc, curve.pairing(g1In(p), g2In(q)));
      out.push({ f12: f12Out(acc) });
    } else if (cmd.pairingEq !== undefined) {
      const args = cmd.pairingEq.flatMap(([p, q]) => [g1In(p), g2In(q)]);
      out.push({ one: await curve.pairingEq(...args) });
    } else if (cmd.fft !== undefined) {
      out.push({ values: await frVector(cmd.fft, (b) => Fr.fft(b)) });
    } else if (cmd.ifft !== undefined) {
      out.push({ values: await frVector(cmd.ifft, (b) => Fr.ifft(b)) });
    } else {
      out.push({ error: "unknown command" });
    }
  } catch (e) {
    out.push({ error: String(e && e.message ? e.message : e) });
  }
}
await curve.terminate();
process.stdout.write(out.map((o) => JSON.stringify(o)).join("\n") + "\n");
