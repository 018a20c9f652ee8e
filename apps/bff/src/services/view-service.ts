import { randomUUID } from 'node:crypto';
import {
  StoredListViewSpecSchema,
  type SavedView,
  type SaveViewRequest,
} from '@twinscope/contract';
import type { Database } from '../adapters/store/sql.ts';
import { audited } from '../audit/audited.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { Actor } from '../audit/records.ts';
import { AppError } from '../core/app-error.ts';

interface ViewRow {
  id: string;
  name: string;
  owner_id: string;
  owner_name: string;
  shared: boolean;
  view: unknown;
  updated_at: Date;
}

function viewOf(row: ViewRow, actor: Actor): SavedView {
  const spec = StoredListViewSpecSchema.safeParse(row.view);
  return {
    id: row.id,
    name: row.name,
    shared: row.shared,
    owner: { id: row.owner_id, name: row.owner_name },
    mine: row.owner_id === actor.id,
    view: spec.success ? spec.data : StoredListViewSpecSchema.parse({}),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Device and module list views saved under a name, in the team's database: one's own, or
 * shared with the team (an Operator's, audited). Saving under a name that exists replaces
 * that view; a person sees their own and the team's, never another's own.
 */
export class ViewService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditTrail,
  ) {}

  async list(actor: Actor): Promise<SavedView[]> {
    const { rows } = await this.db.query<ViewRow>(
      `SELECT id, name, owner_id, owner_name, shared, view, updated_at FROM saved_views
          WHERE shared OR owner_id = $1 ORDER BY shared DESC, lower(name) LIMIT 500`,
      [actor.id],
    );
    return rows.map((row) => viewOf(row, actor));
  }

  /** One view its asker may see: theirs, or the team's (another's own is not found). */
  async get(id: string, actor: Actor): Promise<SavedView> {
    const { rows } = await this.db.query<ViewRow>(
      `SELECT id, name, owner_id, owner_name, shared, view, updated_at FROM saved_views
          WHERE id = $1 AND (shared OR owner_id = $2)`,
      [id, actor.id],
    );
    if (!rows[0])
      throw new AppError('not_found', 'There is no such saved view (or it is not yours).');
    return viewOf(rows[0], actor);
  }

  /** Saves (or replaces, by name) one's own view, or the team's (the route checked the role). */
  async save(request: SaveViewRequest, actor: Actor): Promise<SavedView> {
    const write = () =>
      this.db.query<ViewRow>(
        request.shared
          ? `INSERT INTO saved_views (id, name, owner_id, owner_name, shared, view)
               VALUES ($1, $2, $3, $4, true, $5)
               ON CONFLICT (lower(name)) WHERE shared DO UPDATE
                 SET view = EXCLUDED.view, name = EXCLUDED.name, owner_id = EXCLUDED.owner_id,
                     owner_name = EXCLUDED.owner_name, updated_at = now()
               RETURNING id, name, owner_id, owner_name, shared, view, updated_at`
          : `INSERT INTO saved_views (id, name, owner_id, owner_name, shared, view)
               VALUES ($1, $2, $3, $4, false, $5)
               ON CONFLICT (owner_id, lower(name)) WHERE NOT shared DO UPDATE
                 SET view = EXCLUDED.view, name = EXCLUDED.name, updated_at = now()
               RETURNING id, name, owner_id, owner_name, shared, view, updated_at`,
        [randomUUID(), request.name, actor.id, actor.name, JSON.stringify(request.view)],
      );
    const { rows } = request.shared
      ? await audited(
          this.audit,
          {
            actor,
            action: 'fleet.view-share',
            target: { deviceId: '' },
            change: { name: request.name, view: request.view },
          },
          write,
        )
      : await write();
    return viewOf(rows[0]!, actor);
  }

  /** Deletes one's own view, or (the route checked the role) a shared one, audited. */
  async delete(view: SavedView, actor: Actor): Promise<void> {
    const remove = () => this.db.query('DELETE FROM saved_views WHERE id = $1', [view.id]);
    // (A view that is not shared is the asker's own: `get` finds no one else's.)
    if (!view.shared) {
      await remove();
      return;
    }
    await audited(
      this.audit,
      {
        actor,
        action: 'fleet.view-delete',
        target: { deviceId: '' },
        change: { name: view.name, view: view.view },
      },
      remove,
    );
  }
}
