// Reference Poseidon from circomlibjs. Reads one JSON array of decimal strings per line on
// stdin and prints the hash of each as a decimal string, one per line.
import { buildPoseidon } from "circomlibjs";
import { createInterface } from "node:readline";

const poseidon = await buildPoseidon();
const out = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  const inputs = JSON.parse(line).map((s) => BigInt(s));
  out.push(poseidon.F.toString(poseidon(inputs)));
}
process.stdout.write(out.join("\n") + "\n");
