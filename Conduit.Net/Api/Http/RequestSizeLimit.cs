using Conduit.Net.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Conduit.Net.Api.Http;

/// <summary>
/// <c>max_request_size</c> applied to the request body itself: a declared <c>Content-Length</c> over
/// the limit is refused before anything is read, and a body without one (chunked) fails with
/// <c>M_TOO_LARGE</c> as soon as its decoded bytes pass the limit. Kestrel's own limit cannot be
/// the exact one because it also counts chunk framing (size lines and CRLFs) toward the body.
/// </summary>
public static class RequestSizeLimit
{
    public static IApplicationBuilder UseMatrixRequestSizeLimit(this IApplicationBuilder app, long limit) => app.Use((http, next) =>
    {
        if (http.Request.ContentLength > limit)
            throw TooLarge();
        if (http.Request.ContentLength is null)
            http.Request.Body = new LimitedStream(http.Request.Body, limit);
        return next(http);
    });

    /// <summary>
    /// The byte count Kestrel enforces on the wire: generous enough for chunk framing around a body
    /// at the limit, still a bound on what one request can make the server read.
    /// </summary>
    public static long WireLimit(long limit) => Math.Min(limit, long.MaxValue / 2) * 2;

    private static MatrixException TooLarge() =>
        MatrixException.TooLarge("The request body is larger than this server accepts.");

    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
                throw TooLarge();
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
