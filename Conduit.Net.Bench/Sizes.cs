namespace Conduit.Net.Bench;

/// <summary>How much each workload does: the full run, or a smoke run that exercises every path in seconds.</summary>
internal sealed record Sizes(
    int WarmupMessages,
    int SingleUserMessages,
    int ConcurrentUsers,
    int MessagesPerConcurrentUser,
    int LatencyMessages,
    TimeSpan LatencyGap,
    int InitialSyncRooms,
    int InitialSyncEventsPerRoom,
    int InitialSyncWriters,
    int InitialSyncRuns,
    int SetupConcurrency,
    int BigJoinMembers,
    int? RomeoAndJulietFileLines)
{
    public static readonly Sizes Full = new(
        WarmupMessages: 200,
        SingleUserMessages: 2_000,
        ConcurrentUsers: 16,
        MessagesPerConcurrentUser: 200,
        LatencyMessages: 500,
        LatencyGap: TimeSpan.FromMilliseconds(10),
        InitialSyncRooms: 100,
        InitialSyncEventsPerRoom: 1_000,
        InitialSyncWriters: 4,
        InitialSyncRuns: 5,
        SetupConcurrency: 16,
        BigJoinMembers: 10_000,
        RomeoAndJulietFileLines: null);

    public static readonly Sizes Quick = new(
        WarmupMessages: 20,
        SingleUserMessages: 100,
        ConcurrentUsers: 16,
        MessagesPerConcurrentUser: 10,
        LatencyMessages: 30,
        LatencyGap: TimeSpan.FromMilliseconds(10),
        InitialSyncRooms: 5,
        InitialSyncEventsPerRoom: 50,
        InitialSyncWriters: 2,
        InitialSyncRuns: 3,
        SetupConcurrency: 8,
        BigJoinMembers: 300,
        RomeoAndJulietFileLines: 300);
}
