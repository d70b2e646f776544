# Loaded into each of upstream fping's test scripts (ci/test-*.pl) by
# scripts/upstream-suites.py through PERL5OPT, before the script's own
# `use Test::Command`. Two jobs, neither of which changes a test:
#
#  - a command the exclusion table names (UPSUITES_EXCLUDE, "commands") is
#    never run: each of its assertions is reported as a skipped point,
#    "excluded: REASON", so the summary counts it as excluded, never as a
#    pass (its target would be on the internet, for instance);
#  - every assertion's point number and command go to UPSUITES_LOG (one
#    "N<TAB>COMMAND" line each), so that the summary can name the command
#    behind every point and match the deliberate differences by command.
#    A plain Test::More assertion belongs to the command asserted on last
#    (excluded with it).
package UpstreamExclude;
use strict;
use warnings;
use JSON::PP ();
use Test::Builder ();
require Test::Command;

my %excluded;
if (my $table = $ENV{UPSUITES_EXCLUDE}) {
    open my $fh, '<', $table or die "UpstreamExclude: $table: $!";
    my $json = JSON::PP::decode_json(do { local $/; <$fh> });
    $excluded{$_->{cmd}} = $_->{reason} for @{ $json->{commands} || [] };
}
my $log;
if (my $path = $ENV{UPSUITES_LOG}) {
    open $log, '>>', $path or die "UpstreamExclude: $path: $!";
    $log->autoflush(1);
}

# The command line of a Test::Command object (or of the plain command the
# function forms take), as the table spells it.
sub command_of {
    my ($cmd) = @_;
    $cmd = $cmd->{cmd} if ref $cmd && UNIVERSAL::isa($cmd, 'Test::Command');
    return ref $cmd eq 'ARRAY' ? join(' ', @$cmd) : $cmd;
}

# The command of the last Test::Command assertion, and whether one is
# running: a plain Test::More assertion that follows a command (test-04
# times `fping -B ...` with cmp_ok) belongs to that command.
my $last;
our $inside = 0;

sub log_point {
    my ($command) = @_;
    printf {$log} "%d\t%s\n", Test::Builder->new->current_test + 1, $command // '?' if $log;
}

no strict 'refs';
no warnings 'redefine';
# Every assertion (exit_*, signal_*, stdout_*, stderr_*), not the *_value
# and *_file accessors, which assert nothing.
for my $name (grep { /^(exit|signal|stdout|stderr)_/ && !/_(value|file)$/ }
    keys %Test::Command::) {
    my $orig = \&{"Test::Command::$name"};
    next unless defined &$orig;
    *{"Test::Command::$name"} = sub {
        $last = command_of($_[0]);
        log_point($last);
        if (exists $excluded{$last}) {
            Test::Builder->new->skip("excluded: $excluded{$last}");
            return 1;
        }
        local $inside = 1;
        local $Test::Builder::Level = $Test::Builder::Level + 1;
        return $orig->(@_);
    };
}

my $orig_ok = \&Test::Builder::ok;
*Test::Builder::ok = sub {
    my ($builder) = @_;
    if (!$inside) {
        log_point($last);
        if (defined $last && exists $excluded{$last}) {
            $builder->skip("excluded: $excluded{$last}");
            return 1;
        }
    }
    goto &$orig_ok;
};

1;
