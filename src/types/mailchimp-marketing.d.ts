/**
 * The parts of @mailchimp/mailchimp_marketing (3.0.80, untyped) this project uses. We import
 * the ApiClient constructor directly so each target run owns its client instead of sharing the
 * package's module-level singleton.
 */
declare module '@mailchimp/mailchimp_marketing/src/ApiClient.js' {
  interface ResponseAndData<T> {
    data: T;
    response: { status: number; headers: Record<string, string | undefined> };
  }
  interface ListsApi {
    getListWithHttpInfo(listId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    getListMergeFieldsWithHttpInfo(listId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    getListMembersInfoWithHttpInfo(listId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    getListMemberWithHttpInfo(listId: string, hash: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    listSegmentsWithHttpInfo(listId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    createSegmentWithHttpInfo(listId: string, body: unknown): Promise<ResponseAndData<unknown>>;
    updateSegmentWithHttpInfo(listId: string, segmentId: string, body: unknown): Promise<ResponseAndData<unknown>>;
    getSegmentMembersListWithHttpInfo(listId: string, segmentId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    batchSegmentMembersWithHttpInfo(body: unknown, listId: string, segmentId: string): Promise<ResponseAndData<unknown>>;
    batchListMembersWithHttpInfo(listId: string, body: unknown, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    setListMemberWithHttpInfo(listId: string, hash: string, body: unknown, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    updateListMemberWithHttpInfo(listId: string, hash: string, body: unknown, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    addListMemberWithHttpInfo(listId: string, body: unknown, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    getListInterestCategoriesWithHttpInfo(listId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    listInterestCategoryInterestsWithHttpInfo(listId: string, categoryId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    updateListMemberTagsWithHttpInfo(listId: string, hash: string, body: unknown): Promise<ResponseAndData<unknown>>;
    deleteListMemberWithHttpInfo(listId: string, hash: string): Promise<ResponseAndData<unknown>>;
    deleteListMemberPermanentWithHttpInfo(listId: string, hash: string): Promise<ResponseAndData<unknown>>;
  }
  interface PingApi {
    getWithHttpInfo(): Promise<ResponseAndData<unknown>>;
  }
  interface BatchesApi {
    startWithHttpInfo(body: unknown): Promise<ResponseAndData<unknown>>;
    statusWithHttpInfo(batchId: string, opts?: Record<string, unknown>): Promise<ResponseAndData<unknown>>;
    deleteRequestWithHttpInfo(batchId: string): Promise<ResponseAndData<unknown>>;
  }
  class ApiClient {
    constructor();
    basePath: string;
    timeout: number;
    defaultHeaders: Record<string, string>;
    setConfig(config: { apiKey?: string; accessToken?: string; server?: string }): void;
    lists: ListsApi;
    ping: PingApi;
    batches: BatchesApi;
  }
  export default ApiClient;
}
