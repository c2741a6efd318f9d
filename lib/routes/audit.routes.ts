import { defineRoute } from '../http/route.js';
import { AuditPage, AuditQuery } from '../schemas/audit.js';

export const getAuditRoute = defineRoute({
  method: 'get', path: '/api/audit', summary: 'The audit trail: who read or deleted what, newest first', tag: 'maintenance',
  auth: 'admin', action: 'read the audit trail', query: AuditQuery, ok: { 200: AuditPage },
});

export const auditRoutes = [getAuditRoute];
