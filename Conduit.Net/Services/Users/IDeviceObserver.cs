using Conduit.Net.Storage;

namespace Conduit.Net.Services.Users;

/// <summary>
/// Another area's data bound to a device (its keys, its messages), kept in step with the device:
/// each call stages its writes in the batch that changes the device, so both commit together.
/// Calls come under the Users area's lock; an observer must not call back into Users.
/// </summary>
public interface IDeviceObserver
{
    /// <summary>The devices are being deleted (logout, device deletion, deactivation, password reset).</summary>
    void DevicesRemoved(WriteBatch batch, string userId, IReadOnlyCollection<string> deviceIds);

    /// <summary>The device's display name is changing.</summary>
    void DeviceRenamed(WriteBatch batch, string userId, string deviceId);
}
