export * from './types.js';
export { safePath } from './paths.js';
export { FileStorage, type FileStorageOptions } from './file.js';
export { SftpStorage, hostKeyFingerprint, type SftpCredentials, type SftpStorageOptions } from './sftp.js';
export { openStorage, type StorageCredentials } from './open.js';
export { RECORDING_TREES, locateRecording, recordingDir, recordingOfPath, recordingsRootUrl, treeOfState, type LocatedFormat, type RecordingTree } from './bbb-layout.js';
