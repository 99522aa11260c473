export class TlogError extends Error {
    code;
    details;
    name = 'TlogError';
    constructor(code, message, details = {}) {
        super(message);
        this.code = code;
        this.details = details;
    }
}
//# sourceMappingURL=errors.js.map