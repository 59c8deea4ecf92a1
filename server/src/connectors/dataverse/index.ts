export { DataverseConnector, type DataverseConnectorOptions, type DataverseRecord, type QueryOptions, type ChangeSet, type SdkStep, type ServiceEndpoint } from './connector.ts';
export { DATAVERSE_BATCH_LIMIT, type DataverseWrite, type BatchItemResult, type BatchOptions } from './batch.ts';
export type { EntityInfo, AttributeInfo, OptionSetInfo, OptionInfo, OptionSetKind } from './metadata.ts';
export { createDataverseTokenSource, type DataverseTokenSource, type DataverseTokenSourceOptions } from './token.ts';
