export { HubSpotConnector, HUBSPOT_BATCH_LIMIT, type HubSpotConnectorOptions } from './connector.ts';
export { createHubSpotTokenSource, staticHubSpotToken, type HubSpotTokenSource, type HubSpotTokens, type HubSpotOAuthTokenSourceOptions } from './tokens.ts';
export { lastModifiedProperty, type ModifiedCursor, type ModifiedPage, type SearchModifiedOptions } from './search.ts';
export { DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES } from './link-properties.ts';
export type * from './types.ts';
