/// The leave-one-out split of docs/method.md §2: each user's last purchase is the test target, the one before
/// it the validation target, the rest the training sequence. Users with fewer than three purchases
/// cannot be split and are left out (counted in `excludedUsers`).
public struct LeaveOneOutSplit: Sendable, Codable, Equatable {
    public struct UserSplit: Sendable, Codable, Equatable {
        public var user: String
        /// Item ids of the training part, oldest first.
        public var train: [String]
        public var valid: String
        public var test: String
    }

    public var dataset: String
    public var rule = "leave-one-out"
    public var users: [UserSplit]
    public var excludedUsers: Int

    enum CodingKeys: String, CodingKey {
        case dataset, rule, users
        case excludedUsers = "excluded_users"
    }

    public init(_ dataset: SequenceDataset) {
        self.dataset = dataset.name
        var users: [UserSplit] = []
        var excluded = 0
        for (user, sequence) in zip(dataset.userIDs, dataset.sequences) {
            guard sequence.count >= 3 else {
                excluded += 1
                continue
            }
            let ids = sequence.map { dataset.itemIDs[Int($0.item)] }
            users.append(UserSplit(user: user, train: Array(ids.dropLast(2)), valid: ids[ids.count - 2], test: ids[ids.count - 1]))
        }
        self.users = users
        self.excludedUsers = excluded
    }
}
