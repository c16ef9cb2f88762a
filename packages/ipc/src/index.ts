export { ipc } from './ipc.ts';
export { shmCreate, shmRemove, shmList, parseShmList, IPC, IPC_PRIVATE, type ShmSegment, type ShmCreateOptions } from './shm.ts';
export { mqCreate, mqRemove, mqList, type MessageQueue } from './mqueue.ts';
