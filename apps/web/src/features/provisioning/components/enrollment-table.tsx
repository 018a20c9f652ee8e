import { Badge } from '@fluentui/react-components';
import type { Enrollment, EnrollmentKind } from '@twinscope/contract';
import { enrollmentPath, Link } from '../../../lib/router.tsx';
import { KIND, REPROVISION, allocationLabel } from '../enrollment-text.ts';
import { AttestationSummary } from './attestation-summary.tsx';

/** Enrollment groups, or individual enrollments: one row each, its id opening its page. */
export function EnrollmentTable({ kind, items }: { kind: EnrollmentKind; items: Enrollment[] }) {
  const individual = kind === 'individual';
  const columns = individual ? 7 : 6;
  return (
    <table className="invocations" aria-label={KIND[kind].list} data-testid={`${kind}-table`}>
      <thead>
        <tr>
          <th scope="col">ID</th>
          {individual && <th scope="col">Device ID</th>}
          <th scope="col">Attestation</th>
          <th scope="col">Status</th>
          <th scope="col">IoT Edge</th>
          <th scope="col">Allocation</th>
          <th scope="col">Reprovisioning</th>
        </tr>
      </thead>
      <tbody>
        {items.length === 0 ? (
          <tr>
            <td colSpan={columns} className="muted">
              No {KIND[kind].noun} yet.
            </td>
          </tr>
        ) : (
          items.map((e) => (
            <tr key={e.id} data-testid="enrollment-row">
              <td>
                <Link to={enrollmentPath(kind, e.id)}>{e.id}</Link>
              </td>
              {individual && <td>{e.deviceId ?? <span className="muted">{e.id}</span>}</td>}
              <td>
                <AttestationSummary attestation={e.attestation} />
              </td>
              <td>
                <Badge
                  appearance={e.enabled ? 'tint' : 'outline'}
                  color={e.enabled ? 'success' : 'warning'}
                >
                  {e.enabled ? 'Enabled' : 'Disabled'}
                </Badge>
              </td>
              <td>{e.iotEdge ? 'Yes' : 'No'}</td>
              <td>
                {allocationLabel(e.allocationPolicy)}
                {e.customAllocation && (
                  <div className="muted" title={e.customAllocation.webhook}>
                    {e.customAllocation.webhook}
                  </div>
                )}
              </td>
              <td>{REPROVISION[e.reprovision].label}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
