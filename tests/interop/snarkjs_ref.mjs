// snarkjs 0.7 (pinned in tests/package.json) as the reference Groth16 implementation. Reads
// one JSON command on stdin and prints one JSON answer:
//   {"verify": {"vk": file, "proof": file, "public": file}}   -> {"valid": bool}
//   {"setup": {"r1cs": file, "power": P, "dir": dir}}
//        -> makes a powers-of-tau file of 2^P (one contribution, prepared for phase 2), a
//           Groth16 zkey of the circuit with one contribution and its verification key:
//           dir/circuit.zkey, dir/verification_key.json                  -> {"ok": true}
//   {"prove": {"zkey": file, "wtns": file, "dir": dir}}
//        -> dir/proof.json and dir/public.json                          -> {"ok": true}
// Files are paths; an error answers {"error": "..."}.
import * as snarkjs from "snarkjs";
import { readFileSync, writeFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const readJson = (f) => JSON.parse(readFileSync(f, "utf8"));
let answer;
try {
  if (input.verify) {
    const v = input.verify;
    answer = { valid: await snarkjs.groth16.verify(readJson(v.vk), readJson(v.public), readJson(v.proof)) };
  } else if (input.setup) {
    const s = input.setup;
    const ptau0 = `${s.dir}/pot0.ptau`, ptau1 = `${s.dir}/pot1.ptau`, ptau = `${s.dir}/pot.ptau`;
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    await snarkjs.powersOfTau.newAccumulator(curve, s.power, ptau0);
    await snarkjs.powersOfTau.contribute(ptau0, ptau1, "test", "rustorium interop entropy 1");
    await snarkjs.powersOfTau.preparePhase2(ptau1, ptau);
    const zkey0 = `${s.dir}/circuit0.zkey`, zkey = `${s.dir}/circuit.zkey`;
    await snarkjs.zKey.newZKey(s.r1cs, ptau, zkey0);
    await snarkjs.zKey.contribute(zkey0, zkey, "test", "rustorium interop entropy 2");
    const vk = await snarkjs.zKey.exportVerificationKey(zkey);
    writeFileSync(`${s.dir}/verification_key.json`, JSON.stringify(vk));
    answer = { ok: true };
  } else if (input.prove) {
    const p = input.prove;
    const { proof, publicSignals } = await snarkjs.groth16.prove(p.zkey, p.wtns);
    writeFileSync(`${p.dir}/proof.json`, JSON.stringify(proof));
    writeFileSync(`${p.dir}/public.json`, JSON.stringify(publicSignals));
    answer = { ok: true };
  } else {
    answer = { error: "unknown command" };
  }
} catch (e) {
  answer = { error: String(e && e.stack ? e.stack : e) };
}
process.stdout.write(JSON.stringify(answer) + "\n");
process.exit(0);
