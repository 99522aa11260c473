/**
 * Persistence behind one interface: SQLite (the embedded default, one process) and PostgreSQL
 * (several stateless replicas). The transparency log's appends are serialized by the database:
 * SQLite by a write transaction (BEGIN IMMEDIATE), PostgreSQL by a transaction-scoped advisory
 * lock, so two replicas never hand out the same index.
 */
export class StoreError extends Error {
    code;
    name = 'StoreError';
    constructor(code, message, options) {
        super(message, options);
        this.code = code;
    }
}
//# sourceMappingURL=types.js.map