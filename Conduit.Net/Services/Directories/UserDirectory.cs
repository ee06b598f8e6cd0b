using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Directories;

/// <summary>A user as the directory returns them.</summary>
public sealed record DirectoryUser(string UserId, string? DisplayName, string? AvatarUrl);

/// <summary>The answer to a search: the results, and whether the limit cut some off.</summary>
public sealed record UserSearchResult(IReadOnlyList<DirectoryUser> Results, bool Limited);

/// <summary>
/// The user directory (<c>POST /user_directory/search</c>, <c>users.yaml</c>): the users the
/// searcher can see by their rooms, matched on user id and display name.
/// </summary>
/// <remarks>
/// <para>
/// Who is searched: what the spec requires at a minimum and no more (Synapse's default,
/// <c>search_all_users = false</c>): users joined to a room the searcher is joined to, and users
/// joined to a public room (join rule <c>public</c>, or <c>world_readable</c> history). So a local
/// user in no room is not found, and the searcher finds themself as soon as they are in a room.
/// Deactivated users are never found: deactivation erases the profile, and the index holds the
/// users with a profile.
/// </para>
/// <para>
/// Matching follows Synapse: the term is cut into words (runs of letters and digits, case- and
/// compatibility-folded), and every word must be the start of a word of the user id (localpart or
/// server name) or of the display name. Ranking: more words matched exactly (rather than as a
/// prefix) first, with a bonus when the whole term is the display name, localpart or user id; then
/// users with a display name, then with an avatar (as the spec orders results); then user id.
/// Display names and avatars are the global profile's.
/// </para>
/// <para>
/// Cost: the words of every profile sit in an in-memory index, rebuilt on the first search after
/// any profile changes (a store watch tells). Visibility is checked only for matches, best first,
/// until the page is full: one scan of the candidate's joined rooms each, against the searcher's
/// rooms and the cached room summaries. Users of other servers need federation and are not
/// indexed yet.
/// </para>
/// </remarks>
public sealed class UserDirectory : IDisposable
{
    public const int DefaultLimit = 10;

    /// <summary>Most results of one search, whatever the client asks; <c>limited</c> says when more matched.</summary>
    public const int MaxLimit = 100;

    private readonly ProfileService _profiles;
    private readonly RoomEvents _events;
    private readonly RoomSummaries _summaries;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Entry[]? _index;
    private Task _changed = Task.CompletedTask;

    public UserDirectory(ProfileService profiles, RoomEvents events, RoomSummaries summaries)
    {
        _profiles = profiles;
        _events = events;
        _summaries = summaries;
    }

    /// <summary>The best matches visible to <paramref name="searcherId"/>, at most <paramref name="limit"/> (400 <c>M_INVALID_PARAM</c> when negative).</summary>
    public UserSearchResult Search(string searcherId, string searchTerm, int limit)
    {
        if (limit < 0)
            throw MatrixException.InvalidParam("limit must not be negative.");
        limit = Math.Min(limit, MaxLimit);
        var term = Fold(searchTerm).Trim();
        var words = Words(term);
        if (words.Length == 0)
            return new UserSearchResult([], false);

        var matches = new List<(Entry Entry, int Score)>();
        foreach (var entry in Index())
        {
            if (entry.Score(words, term) is > 0 and var score)
                matches.Add((entry, score));
        }
        matches.Sort((a, b) =>
        {
            var order = b.Score.CompareTo(a.Score);
            if (order == 0)
                order = (b.Entry.User.DisplayName is not null).CompareTo(a.Entry.User.DisplayName is not null);
            if (order == 0)
                order = (b.Entry.User.AvatarUrl is not null).CompareTo(a.Entry.User.AvatarUrl is not null);
            return order != 0 ? order : string.CompareOrdinal(a.Entry.User.UserId, b.Entry.User.UserId);
        });

        var searcherRooms = _events.Members.RoomsOf(searcherId, Membership.Join).Select(r => r.RoomId).ToHashSet(StringComparer.Ordinal);
        var results = new List<DirectoryUser>();
        foreach (var (entry, _) in matches)
        {
            if (!IsVisible(entry.User.UserId, searcherRooms))
                continue;
            if (results.Count == limit)
                return new UserSearchResult(results, true);
            results.Add(entry.User);
        }
        return new UserSearchResult(results, false);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>Joined to a room with the searcher, or to a public room.</summary>
    private bool IsVisible(string userId, HashSet<string> searcherRooms)
    {
        foreach (var room in _events.Members.RoomsOf(userId, Membership.Join))
        {
            if (searcherRooms.Contains(room.RoomId) || _summaries.Get(room.RoomId)?.IsPublic == true)
                return true;
        }
        return false;
    }

    private Entry[] Index()
    {
        lock (_gate)
        {
            if (_index is not null && !_changed.IsCompleted)
                return _index;
            // Watch first, then read: a change committed while the index is built wakes the watch.
            _changed = _profiles.WatchAsync(_stopping.Token);
            _index = [.. _profiles.All().Select(p => Entry.Of(p.UserId, p.Profile))];
            return _index;
        }
    }

    /// <summary>Lower case after compatibility normalization, so that "Ｂｏｂ" and "bob" compare equal.</summary>
    private static string Fold(string text)
    {
        try
        {
            text = text.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Text with a lone surrogate cannot be normalized; it is still searched as it is.
        }
        return text.ToLowerInvariant();
    }

    /// <summary>The runs of letters and digits of folded text.</summary>
    private static string[] Words(string folded)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in folded.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                current.Append(rune.ToString());
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0)
            words.Add(current.ToString());
        return [.. words];
    }

    private sealed class Entry
    {
        private readonly string[] _words;
        private readonly string? _name;
        private readonly string _localpart;
        private readonly string _userId;

        private Entry(DirectoryUser user, string[] words, string? name, string localpart, string userId)
        {
            User = user;
            _words = words;
            _name = name;
            _localpart = localpart;
            _userId = userId;
        }

        public DirectoryUser User { get; }

        public static Entry Of(string userId, JsonObject profile)
        {
            var displayName = NonEmptyString(profile, ProfileService.DisplayName);
            var user = new DirectoryUser(userId, displayName, NonEmptyString(profile, ProfileService.AvatarUrl));
            var foldedId = Fold(userId);
            var name = displayName is null ? null : Fold(displayName).Trim();
            var colon = foldedId.IndexOf(':', StringComparison.Ordinal);
            var localpart = foldedId[1..(colon < 0 ? foldedId.Length : colon)];
            return new Entry(user, [.. Words(foldedId).Concat(name is null ? [] : Words(name)).Distinct(StringComparer.Ordinal)], name, localpart, foldedId);
        }

        /// <summary>0 unless every word of the term starts a word of the user; more for exact words and a whole match.</summary>
        public int Score(string[] termWords, string term)
        {
            var score = 0;
            foreach (var termWord in termWords)
            {
                var best = 0;
                foreach (var word in _words)
                {
                    if (word == termWord)
                    {
                        best = 2;
                        break;
                    }
                    if (word.StartsWith(termWord, StringComparison.Ordinal))
                        best = 1;
                }
                if (best == 0)
                    return 0;
                score += best;
            }
            if (term == _name || term == _localpart || term == _userId)
                score += 4;
            return score;
        }

        private static string? NonEmptyString(JsonObject profile, string key) =>
            profile[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text
                ? text
                : null;
    }
}
