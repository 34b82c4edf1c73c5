// Unit test of reading a leaf's validity window from a chain PEM made by our CA.
import { expect, test } from "bun:test";
import { createCertificateAuthority } from "../shared/pki/ca.ts";
import { issueWorkloadCredentials } from "../shared/pki/workload.ts";
import { leafValidity } from "./leaf-validity.ts";

test("the leaf's notBefore/notAfter come from the first certificate of the chain; junk gives undefined", async () => {
  const ca = await createCertificateAuthority({ trustDomain: "v.test" });
  const creds = await issueWorkloadCredentials(ca, "spiffe://v.test/ns/default/svc/a");
  const v = leafValidity(creds.certChainPem)!;
  expect(v.notAfter.getTime()).toBeGreaterThan(Date.now());
  expect(v.notBefore.getTime()).toBeLessThan(Date.now());
  // The leaf, not the intermediate behind it: leaves live about a day by default.
  expect(v.notAfter.getTime() - Date.now()).toBeLessThan(31 * 24 * 3_600_000);
  expect(leafValidity("not a pem")).toBeUndefined();
});
