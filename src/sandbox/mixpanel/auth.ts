/**
 * Mixpanel authentication, shared by the export and query families.
 *
 *   project secret:   Basic base64("<api secret>:")            project implied by the secret
 *   service account:  Basic base64("<username>:<secret>")      project_id parameter required and
 *                                                              must be the project's id
 * For POST /engage the project_id may come in the form body; ctx.params() merges it.
 */
import type { Hook } from '../context.js';
import { parseBasicAuth } from '../http.js';
import type { SandboxState } from '../state.js';
import { mixpanelStatusError } from './errors.js';

const UNAUTHENTICATED = 'Unable to authenticate request';

export function mixpanelAuth(state: SandboxState): Hook {
  return async (ctx, next) => {
    // Unknown paths fall through to the family's 404.
    if (!ctx.route) return next();
    const { mixpanel } = state.config;
    const credentials = parseBasicAuth(ctx.req.headers.authorization);
    if (credentials && credentials.user === mixpanel.apiSecret && credentials.password === '') {
      ctx.principal = { kind: 'project_secret', id: 'project-secret' };
      return next();
    }
    if (credentials && credentials.user === mixpanel.serviceAccountUsername && credentials.password === mixpanel.serviceAccountSecret) {
      ctx.principal = { kind: 'service_account', id: credentials.user };
      if (ctx.route.projectScoped !== false) {
        const projectId = (await ctx.params()).get('project_id');
        if (projectId === null || projectId.trim() === '') {
          throw mixpanelStatusError(400, 'project_id is required when authenticating with a service account');
        }
        if (!/^\d+$/.test(projectId.trim())) throw mixpanelStatusError(400, `project_id must be an integer, got "${projectId}"`);
        if (Number(projectId) !== mixpanel.projectId) {
          throw mixpanelStatusError(403, `Service account ${credentials.user} does not have access to project ${projectId}`);
        }
      }
      return next();
    }
    throw mixpanelStatusError(401, UNAUTHENTICATED, { 'WWW-Authenticate': 'Basic realm="Mixpanel"' });
  };
}
