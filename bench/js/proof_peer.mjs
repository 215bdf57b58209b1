// The JavaScript references of the proof benchmark: circomlibjs's Poseidon and
// @iden3/js-merkletree, on the same kinds of operations bench/proof_bench.cc times.
// usage: node proof_peer.mjs TESTS_DIR KEYS HASHES
// Prints one JSON object: µs per Poseidon t=3 and t=5, tree inserts per second, µs per proof
// generation and verification, and the average binary proof size.
import { createRequire } from "node:module";

const [testsDir, keysArg, hashesArg] = process.argv.slice(2);
const require = createRequire(testsDir + "/package.json");
const { buildPoseidon } = require("circomlibjs");
const { InMemoryDB, Merkletree, verifyProof, str2Bytes } = require("@iden3/js-merkletree");

const keys = Number(keysArg);
const hashes = Number(hashesArg);
const now = () => Number(process.hrtime.bigint()) / 1e3;  // µs

const poseidon = await buildPoseidon();
const perHash = (width) => {
  let x = [1n, 2n, 3n, 4n].slice(0, width - 1);
  const start = now();
  for (let i = 0; i < hashes; i++) {
    const h = poseidon.F.toObject(poseidon(x));
    x = [h, ...x.slice(1)];
  }
  return (now() - start) / hashes;
};
const t3 = perHash(3);
const t5 = perHash(5);

// Random keys below 2^252, values small.
let seed = 12345n;
const rand = () => {
  seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  return seed;
};
const tree = new Merkletree(new InMemoryDB(str2Bytes("")), true, 64);
const ks = [];
for (let i = 0; i < keys; i++) ks.push((rand() << 188n) | (rand() << 124n) | (rand() << 60n) | (rand() >> 4n));
let start = now();
for (let i = 0; i < keys; i++) await tree.add(ks[i], BigInt(i));
const insertsPerSecond = keys / ((now() - start) / 1e6);

const probes = Math.min(1000, keys);
const proofs = [];
start = now();
for (let i = 0; i < probes; i++) proofs.push((await tree.generateProof(ks[i])).proof);
const proveUs = (now() - start) / probes;
const root = await tree.root();
start = now();
let valid = 0;
for (let i = 0; i < probes; i++) valid += (await verifyProof(root, proofs[i], ks[i], BigInt(i))) ? 1 : 0;
const verifyUs = (now() - start) / probes;
let size = 0;
for (const p of proofs) size += p.bytes().length;

console.log(JSON.stringify({
  poseidon_t3_us: t3, poseidon_t5_us: t5, inserts_per_second: insertsPerSecond,
  prove_us: proveUs, verify_us: verifyUs, proof_bytes: size / probes, valid, probes,
}));
