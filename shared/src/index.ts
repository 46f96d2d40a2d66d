export * from './constants';
export * from './errors';
export * from './hmac';
export * from './reasons';
export * from './schemas';
