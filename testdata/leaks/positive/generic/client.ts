export const authToken: string = '7zM3X5nzazlmDEWm@@mKgpCYrWU7DNSN46';
