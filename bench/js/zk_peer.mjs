// The JavaScript reference of the zk benchmark: snarkjs's groth16 prove on the .zkey and
// .wtns bench/zk_bench.cc wrote (snarkjs's own worker pool, all cores).
// usage: node zk_peer.mjs TESTS_DIR ZKEY WTNS RUNS
// Prints one JSON object: {"prove_ms": best of RUNS, "proof": proof.json, "public": [...]}.
import { createRequire } from "node:module";

const [testsDir, zkey, wtns, runsArg] = process.argv.slice(2);
const require = createRequire(testsDir + "/package.json");
const snarkjs = require("snarkjs");

let best = Infinity;
let last;
for (let i = 0; i < Number(runsArg); i++) {
  const start = process.hrtime.bigint();
  last = await snarkjs.groth16.prove(zkey, wtns);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  best = Math.min(best, ms);
}
process.stdout.write(JSON.stringify({ prove_ms: best, proof: last.proof, public: last.publicSignals }) + "\n");
process.exit(0);
