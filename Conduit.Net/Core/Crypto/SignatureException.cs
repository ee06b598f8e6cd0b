namespace Conduit.Net.Core.Crypto;

/// <summary>A JSON object does not carry a valid signature from the entity and key it was checked against.</summary>
public sealed class SignatureException : Exception
{
    public SignatureException(SignatureCheck result, string message)
        : base(message)
    {
        Result = result;
    }

    public SignatureCheck Result { get; }
}
