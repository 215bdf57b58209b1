// Reference sparse Merkle tree from @iden3/js-merkletree (in memory). Reads one JSON command
// per line on stdin and prints one JSON answer per line:
//   {"levels": L}                    -> starts a fresh tree with maxLevels L   -> {"ok":true}
//   {"add": [k, v]}                  -> adds (or updates, when k is present)   -> {"ok":true}
//   {"delete": k}                    -> deletes k                              -> {"ok":true}
//   {"root": true}                   -> {"root": "decimal"}
//   {"prove": k}                     -> {"proof": <iden3 proof JSON>, "value": "decimal"}
//   {"verify": {root, key, value, proof}} -> {"valid": bool}  (value "0" for non-inclusion)
// Elements are decimal strings. An error answers {"error": "..."}.
import { InMemoryDB, Merkletree, Proof, Hash, verifyProof, str2Bytes } from "@iden3/js-merkletree";
import { createInterface } from "node:readline";

let tree = new Merkletree(new InMemoryDB(str2Bytes("")), true, 64);
const out = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  const cmd = JSON.parse(line);
  try {
    if (cmd.levels !== undefined) {
      tree = new Merkletree(new InMemoryDB(str2Bytes("")), true, cmd.levels);
      out.push({ ok: true });
    } else if (cmd.add !== undefined) {
      const [k, v] = cmd.add.map(BigInt);
      try {
        await tree.get(k).then((r) => {
          if (r.key !== k || (r.key === 0n && r.value === 0n && k !== 0n)) throw new Error("absent");
        });
        await tree.update(k, v);
      } catch {
        await tree.add(k, v);
      }
      out.push({ ok: true });
    } else if (cmd.delete !== undefined) {
      await tree.delete(BigInt(cmd.delete));
      out.push({ ok: true });
    } else if (cmd.root !== undefined) {
      out.push({ root: (await tree.root()).bigInt().toString() });
    } else if (cmd.prove !== undefined) {
      const { proof, value } = await tree.generateProof(BigInt(cmd.prove));
      out.push({ proof: proof.toJSON(), value: value.toString() });
    } else if (cmd.verify !== undefined) {
      const { root, key, value, proof } = cmd.verify;
      const valid = await verifyProof(Hash.fromString(root), Proof.fromJSON(proof), BigInt(key), BigInt(value));
      out.push({ valid });
    } else {
      out.push({ error: "unknown command" });
    }
  } catch (e) {
    out.push({ error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(out.map((o) => JSON.stringify(o)).join("\n") + "\n");
