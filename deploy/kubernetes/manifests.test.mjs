// The Kubernetes manifests as kustomize renders them (Debian's kubectl), each object checked
// against the Kubernetes API's JSON schemas (kubernetes-models, Kubernetes 1.27), then what a
// team relies on: two replicas behind probes, a disruption budget and a network policy that
// select those very pods, workload identity, no root and no writable image. Run by `npm test`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const models = {
  'apps/v1': apps,
  v1: core,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
};

const kubectl = spawnSync('kubectl', ['kustomize', here], { encoding: 'utf8' });
const skip = kubectl.error ? 'no kubectl (Debian: apt-get install kubernetes-client)' : false;
const objects = skip ? [] : parseAllDocuments(kubectl.stdout).map((document) => document.toJSON());
const one = (kind) => {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
const matches = (selector, labels) =>
  Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);

test('every object kustomize renders is valid against the Kubernetes schemas', { skip }, () => {
  assert.equal(kubectl.status, 0, kubectl.stderr);
  assert.deepEqual(objects.map((o) => o.kind).sort(), [
    'ConfigMap',
    'Deployment',
    'NetworkPolicy',
    'PodDisruptionBudget',
    'Service',
    'ServiceAccount',
  ]);
  for (const object of objects) {
    const Model = models[object.apiVersion]?.[object.kind];
    assert.ok(Model, `a schema for ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
  }
  // The check can fail: a field of the wrong type is refused.
  const broken = structuredClone(one('Deployment'));
  broken.spec.replicas = 'two';
  assert.throws(() => new apps.Deployment(broken).validate());
});

test(
  'two replicas with probes, kept through disruptions, reachable only as the policy says, never root',
  { skip },
  () => {
    const deployment = one('Deployment');
    const pod = deployment.spec.template;
    const [container] = pod.spec.containers;
    assert.equal(deployment.spec.replicas, 2);
    assert.ok(matches(deployment.spec.selector, pod.metadata.labels));
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.startupProbe.httpGet.path, '/healthz');
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8080 }]);
    // It pauses before SIGTERM (preStop), then drains in 10 s; the platform waits longer than
    // both before killing it.
    const pause = Number(container.lifecycle.preStop.exec.command.at(-1));
    assert.ok(pod.spec.terminationGracePeriodSeconds > pause + 10);
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.equal(pod.metadata.labels['azure.workload.identity/use'], 'true');
    assert.equal(pod.spec.serviceAccountName, one('ServiceAccount').metadata.name);
    assert.ok(one('ServiceAccount').metadata.annotations['azure.workload.identity/client-id']);
    // The generated ConfigMap's hashed name is the one the pods read.
    const config = one('ConfigMap');
    assert.ok(container.envFrom.some((from) => from.configMapRef?.name === config.metadata.name));
    assert.equal(config.data.TWINSCOPE_AUTH_MODE, 'entra');
    assert.ok(container.envFrom.some((from) => from.secretRef?.name === 'twinscope-secrets'));

    const budget = one('PodDisruptionBudget');
    assert.equal(budget.spec.minAvailable, 1);
    assert.ok(matches(budget.spec.selector, pod.metadata.labels));
    const service = one('Service');
    assert.ok(matches({ matchLabels: service.spec.selector }, pod.metadata.labels));
    assert.equal(service.spec.ports[0].targetPort, 'http');
    const network = one('NetworkPolicy');
    assert.ok(matches(network.spec.podSelector, pod.metadata.labels));
    assert.deepEqual(network.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(
      network.spec.ingress.flatMap((rule) => rule.ports.map((p) => p.port)),
      [8080],
    );
  },
);
