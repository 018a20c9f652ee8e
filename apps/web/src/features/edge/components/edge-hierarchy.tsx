import { Text } from '@fluentui/react-components';
import type { EdgeOverview } from '@twinscope/contract';
import { devicePath, Link } from '../../../lib/router.tsx';

/** The devices above and below this one in the IoT Edge hierarchy, as links; nothing if none. */
export function EdgeHierarchy({ overview }: { overview: EdgeOverview }) {
  const { parents, children } = overview;
  if (parents.length === 0 && children.length === 0) return null;
  return (
    <div className="edge-hierarchy" data-testid="edge-hierarchy">
      {parents.length > 0 && (
        <Text>
          Parent:{' '}
          {parents.map((parent) => (
            <Link key={parent} to={devicePath(parent)}>
              {parent}
            </Link>
          ))}
        </Text>
      )}
      {children.length > 0 && (
        <Text>
          Children:{' '}
          {children.map((child, index) => (
            <span key={child.deviceId}>
              {index > 0 && ', '}
              <Link to={devicePath(child.deviceId)}>{child.deviceId}</Link>
              {child.iotEdge && ' (IoT Edge)'}
            </span>
          ))}
        </Text>
      )}
    </div>
  );
}
