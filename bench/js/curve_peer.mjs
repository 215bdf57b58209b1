// The JavaScript reference of the curve benchmark: ffjavascript's bn128 (snarkjs's engine),
// G1 multi-scalar multiplication on one thread and on its default worker pool, and the
// pairing, on the inputs bench/curve_bench.cc wrote.
// usage: node curve_peer.mjs TESTS_DIR INPUT_FILE LOG_SIZES PAIRINGS
//   INPUT_FILE: 2^max(LOG_SIZES) G1 points (64 bytes each, snarkjs's affine little-endian
//   Montgomery form), then as many scalars (32 bytes each, little-endian, below r).
//   LOG_SIZES: comma-separated, e.g. 16,18,20.
// Prints one JSON object: {"msm": {"16": {"one_ms", "all_ms", "workers", "result": [x, y]}},
// "pairing_us", "pairing4_us"}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import os from "node:os";

const [testsDir, inputFile, sizesArg, pairingsArg] = process.argv.slice(2);
const require = createRequire(testsDir + "/package.json");
const { buildBn128 } = require("ffjavascript");

const logs = sizesArg.split(",").map(Number);
const maxN = 1 << Math.max(...logs);
const input = readFileSync(inputFile);
const points = new Uint8Array(input.buffer, input.byteOffset, 64 * maxN);
const scalars = new Uint8Array(input.buffer, input.byteOffset + 64 * maxN, 32 * maxN);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const single = await buildBn128(true);
const multi = await buildBn128(false);
const out = { msm: {}, workers: os.cpus().length };
for (const log of logs) {
  const n = 1 << log;
  const row = {};
  for (const [name, curve] of [["one_ms", single], ["all_ms", multi]]) {
    const start = nowMs();
    const r = await curve.G1.multiExpAffine(points.subarray(0, 64 * n), scalars.subarray(0, 32 * n));
    row[name] = nowMs() - start;
    const [x, y] = curve.G1.toObject(curve.G1.toAffine(r));
    row.result = curve.G1.isZero(r) ? null : [x.toString(), y.toString()];
  }
  out.msm[log] = row;
}
const pairings = Number(pairingsArg);
const { G1, G2 } = single;
let start = nowMs();
for (let i = 0; i < pairings; i++) single.pairing(G1.g, G2.g);
out.pairing_us = ((nowMs() - start) * 1000) / pairings;
const a = G1.timesScalar(G1.g, 7n), b = G2.timesScalar(G2.g, 11n);
start = nowMs();
for (let i = 0; i < pairings; i++) await single.pairingEq(G1.neg(a), b, G1.g, G2.g, a, G2.g, G1.g, b);
out.pairing4_us = ((nowMs() - start) * 1000) / pairings;
await multi.terminate();
process.stdout.write(JSON.stringify(out) + "\n");
