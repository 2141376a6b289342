// Package redisstate is the Redis implementation of the state seam
// (package telephony/state), on github.com/redis/go-redis/v9: several
// replicas of one backend share each provider account's rate windows and
// gate, Dialpad's per-endpoint limits, webhook dedupe keys, routing claims,
// and a durable event log on Redis Streams.
//
// Only a program that imports this package compiles go-redis.
package redisstate
